from django.urls import path

from integration_hub.finance import views

app_name = "finance"
urlpatterns = [
    path("", views.SettlementListView.as_view(), name="settlements"),
    path("upload/", views.SettlementUploadView.as_view(), name="upload"),
    path("uploads/<int:pk>/", views.UploadDetailView.as_view(), name="upload-detail"),
    path("uploads/<int:pk>/progress.json", views.UploadProgressView.as_view(), name="upload-progress"),
    path("<int:pk>/", views.SettlementDetailView.as_view(), name="settlement"),
    path("<int:pk>/journal.<str:fmt>", views.JournalDownloadView.as_view(), name="download"),
    path("<int:pk>/post/", views.PostJournalView.as_view(), name="post"),
]
