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
    found = (("user", conf.user_model()), ("organization", conf.org_model()), ("membership", conf.membership_model()))
    for name, model in found:
        if model is None:
            problems.append(
                checks.Warning(
                    "org_token_edge: no %s model found; its changes are not recorded" % name, id="org_token_edge.W002"
                )
            )
    return problems
