from django.urls import path

from integration_hub.sync import views

app_name = "sync"
urlpatterns = [
    path("", views.WorkItemListView.as_view(), name="workitems"),
    path("jobs/", views.JobsView.as_view(), name="jobs"),
    path("<int:pk>/retry/", views.WorkItemRetryView.as_view(), name="retry"),
    path("retry/", views.WorkItemRetryView.as_view(), name="retry-many"),
]
