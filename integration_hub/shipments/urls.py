from django.urls import path

from integration_hub.shipments import views

app_name = "shipments"
urlpatterns = [
    path("", views.ShipmentListView.as_view(), name="list"),
    path("<int:pk>/", views.ShipmentDetailView.as_view(), name="detail"),
]
