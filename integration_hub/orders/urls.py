from django.urls import path

from integration_hub.orders import views

app_name = "orders"
urlpatterns = [
    path("", views.OrderListView.as_view(), name="list"),
    path("<int:pk>/", views.OrderDetailView.as_view(), name="detail"),
    path("<int:pk>/timeline/", views.OrderTimelineView.as_view(), name="timeline"),
    path("bulk/", views.OrderBulkActionView.as_view(), name="bulk"),
    path("<int:pk>/hold/", views.OrderActionView.as_view(action="hold"), name="hold"),
    path("<int:pk>/release/", views.OrderActionView.as_view(action="release"), name="release"),
    path("<int:pk>/refetch/", views.OrderActionView.as_view(action="refetch"), name="refetch"),
]
