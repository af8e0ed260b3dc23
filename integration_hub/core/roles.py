"""The hub's three roles and what each may do. Groups are created by a migration and their
permissions are brought up to date after every migrate (new models bring new permissions)."""

from django.contrib.auth.models import Group, Permission

ALL = "__all__"

# (app_label, model or "*", actions)
ROLE_PERMISSIONS = {
    "ops": [
        ("mappings", "*", ("view", "add", "change", "delete")),
        ("mappings", "glaccountmap", ("view",)),
        ("orders", "*", ("view", "change")),
        ("shipments", "*", ("view",)),
        ("inventory", "*", ("view",)),
        ("exchanges", "*", ("view",)),
        ("sync", "*", ("view",)),
        ("connectors", "*", ("view",)),
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
        for pk, codename in perms.values_list("pk", "codename"):
            if codename.split("_", 1)[0] in actions:
                wanted.add(pk)
            else:
                wanted.discard(pk)
    return Permission.objects.filter(pk__in=wanted)


def sync_roles(**kwargs):
    for role in ROLE_PERMISSIONS:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(permissions_for(role))
