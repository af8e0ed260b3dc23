from django.urls import path

from integration_hub.exchanges import views

app_name = "exchanges"
urlpatterns = [
    path("", views.ExchangeListView.as_view(), name="list"),
    path("<int:pk>/", views.ExchangeDetailView.as_view(), name="detail"),
    path("<int:pk>/replay/", views.ExchangeReplayView.as_view(), name="replay"),
]
