"""The hub's three roles and what each may do. Groups are created by a migration and their
permissions are brought up to date after every migrate (new models bring new permissions)."""

from functools import wraps

from django.contrib.auth.models import Group, Permission
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from integration_hub.core.urlpatterns import wrap_views

ALL = "__all__"

# (app_label, model or "*", actions); an action is a verb (view, add, change, delete) or a full codename.
# Finance sees orders (ids, SKUs, amounts) but not the buyer's name, address or contact details.
ROLE_PERMISSIONS = {
    "ops": [
        ("mappings", "*", ("view", "add", "change", "delete")),
        ("mappings", "glaccountmap", ("view",)),
        ("orders", "*", ("view", "change")),
        ("orders", "order", ("view", "change", "view_buyer_data")),
        ("shipments", "*", ("view",)),
        ("inventory", "*", ("view",)),
        ("exchanges", "*", ("view",)),
        ("sync", "*", ("view",)),
        ("sync", "workitem", ("view", "retry_order_work", "retry_stock_work")),
        ("connectors", "*", ("view",)),
        ("alerts", "*", ("view",)),
    ],
    "finance": [
        ("finance", "*", ("view", "add", "change")),
        ("mappings", "glaccountmap", ("view", "add", "change", "delete")),
        ("orders", "*", ("view",)),
        ("shipments", "*", ("view",)),
        ("exchanges", "*", ("view",)),
        ("connectors", "*", ("view",)),
    ],
    "admin": ALL,
}


def permissions_for(role):
    spec = ROLE_PERMISSIONS[role]
    if spec == ALL:
        return Permission.objects.all()
    # Broad rules ("*") first, then model rules, so a narrower rule replaces a broad one
    # (ops edit mappings but may only view the GL map).
    wanted = set()
    for app_label, model, actions in sorted(spec, key=lambda rule: rule[1] != "*"):
        perms = Permission.objects.filter(content_type__app_label=app_label)
        if model != "*":
            perms = perms.filter(content_type__model=model)
        for pk, codename, model_name in perms.values_list("pk", "codename", "content_type__model"):
            verb, _, of = codename.partition("_")
            # A verb grants Django's own four permissions; a custom one (view_buyer_data) is named in full.
            if codename in actions or (verb in actions and of == model_name):
                wanted.add(pk)
            else:
                wanted.discard(pk)
    return Permission.objects.filter(pk__in=wanted)


def sync_roles(**kwargs):
    for role in ROLE_PERMISSIONS:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(permissions_for(role))


def is_admin(user):
    """The admin role: a member of the admin group, or a superuser."""
    return user.is_active and (user.is_superuser or user.groups.filter(name="admin").exists())


def admin_role_required(view):
    """A view only admins may open: others signed in get 403, anonymous users the login page."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_admin(request.user):
            raise PermissionDenied("only the admin role may use this page")
        return view(request, *args, **kwargs)

    return guarded


def admins_only(urlpatterns):
    """The same URL patterns with every view behind `admin_role_required` (e.g. django-rq's)."""
    return wrap_views(urlpatterns, admin_role_required)
