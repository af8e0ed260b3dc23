from django.urls import path

from integration_hub.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.DashboardView.as_view(), name="home"),
    path("health/", views.HealthView.as_view(), name="health"),
]
