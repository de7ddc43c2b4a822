from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from . import conf


@checks.register()
def configuration(app_configs, **kwargs):
    problems = []
    try:
        conf.delivery()
    except ImproperlyConfigured as error:
        problems.append(
            checks.Warning(
                str(error),
                hint="Changes are recorded in the outbox and delivered once the setting is right.",
                id="org_token_edge.W001",
            )
        )
    # ps-web's organization and membership models are looked for under their default labels;
    # a project without them (a stock Django project) syncs users only, and is told nothing
    # unless it names them itself.
    found = (
        ("user", conf.user_model(), True),
        ("organization", conf.org_model(), conf.configured("ORG_MODEL")),
        ("membership", conf.membership_model(), conf.configured("MEMBERSHIP_MODEL")),
    )
    for name, model, expected in found:
        if model is None and expected:
            problems.append(
                checks.Warning(
                    "org_token_edge: no %s model found; its changes are not recorded" % name, id="org_token_edge.W002"
                )
            )
    return problems


COMMAND = "python manage.py org_token_edge_config"


@checks.register()
def edge_settings(app_configs, **kwargs):
    """W003: the edge's simplejwt settings, as org_token_edge_config reads them now, are not the
    ones fingerprinted in ORG_TOKEN_EDGE["EDGE_CONFIG"] when the edge was configured."""
    expected = conf.edge_config()
    if expected is None:
        return []
    from . import edge_config

    hint = (
        "Run `%s` and set its lines at the edge (`--format toml` for wrangler.toml's [vars]), then store the"
        " fingerprint it prints in ORG_TOKEN_EDGE['EDGE_CONFIG']." % COMMAND
    )
    try:
        now = edge_config.read().fingerprint()
    except Exception as error:  # an URLconf that does not import: the check reports, never crashes
        if not isinstance(error, edge_config.Refused):
            error = edge_config.Refused(["reading it failed: %s: %s" % (type(error).__name__, error)])
        refused = error
        return [
            checks.Warning(
                "org_token_edge: the edge cannot serve this origin's simplejwt settings any more: %s"
                % "; ".join(refused.lines),
                hint="`%s` lists what it refuses." % COMMAND,
                id="org_token_edge.W003",
            )
        ]
    if now.split(":")[-1] != str(expected).strip().split(":")[-1].lower():  # "sha256:" may be left out
        return [
            checks.Warning(
                "org_token_edge: the origin's simplejwt settings, URLconf or version changed since the edge was"
                " configured (ORG_TOKEN_EDGE['EDGE_CONFIG'] is %r, they read %r now)" % (expected, now),
                hint=hint,
                id="org_token_edge.W003",
            )
        ]
    return []
