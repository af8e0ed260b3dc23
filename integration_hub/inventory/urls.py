from django.urls import path

from integration_hub.inventory import views

app_name = "inventory"
urlpatterns = [
    path("", views.StockListView.as_view(), name="list"),
]
