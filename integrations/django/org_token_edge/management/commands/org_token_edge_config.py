from django.core.management.base import BaseCommand, CommandError

from org_token_edge import edge_config


class Command(BaseCommand):
    help = (
        "Print the edge's settings that make a fresh edge answer simplejwt's views as this origin does"
        " (.dev.vars lines, or wrangler.toml's [vars] with --format toml); refuse what the edge cannot serve."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--with-secrets",
            action="store_true",
            help="include JWT_SECRET_KEY (simplejwt's SIGNING_KEY under HS*), SIGNING_KEY (its private key under an"
            " asymmetric ALGORITHM) and SYNC_SECRET (ORG_TOKEN_EDGE['SECRET'])",
        )
        parser.add_argument("--format", choices=("env", "toml"), default="env", help="env (default) or toml")
        parser.add_argument(
            "--fingerprint",
            action="store_true",
            help="print only the fingerprint, the value of ORG_TOKEN_EDGE['EDGE_CONFIG']",
        )

    def handle(self, *args, **options):
        toml = options["format"] == "toml"
        if toml and options["with_secrets"]:
            raise CommandError(
                "--with-secrets with --format toml: secrets never go in wrangler.toml; print them with"
                " --format env for .dev.vars, or set them with `npx wrangler secret put` (JWT_SECRET_KEY, SYNC_SECRET,"
                " and SIGNING_KEY under an asymmetric ALGORITHM)"
            )
        try:
            config = edge_config.read(with_secrets=options["with_secrets"])
        except edge_config.Refused as refused:
            for line in refused.lines:
                self.stderr.write(line)
            raise CommandError(
                "the edge cannot serve this origin's simplejwt as configured (%d refused)" % len(refused.lines)
            )
        for warning in config.warnings:
            self.stderr.write("warning: %s" % warning)
        if options["fingerprint"]:
            self.stdout.write(config.fingerprint())
            return
        lines = ["# org-token-edge settings for simplejwt's views, from `manage.py org_token_edge_config`"]
        lines += ["# %s" % note for note in config.notes]
        if toml:
            lines.append("[vars]")
            lines += ["%s = %s" % (key, edge_config.toml_value(value)) for key, value in config.values]
        else:
            try:
                pairs = config.values + config.secrets
                lines += ["%s=%s" % (key, edge_config.env_value(value)) for key, value in pairs]
            except ValueError as error:
                raise CommandError(str(error))
        if not config.secrets and dict(config.values).get("VERIFYING_KEY"):
            lines.append(
                "# secrets, not printed: set SIGNING_KEY (simplejwt's SIGNING_KEY, a PKCS#8 PEM), JWT_SECRET_KEY"
                " (derived from SECRET_KEY) and SYNC_SECRET (ORG_TOKEN_EDGE['SECRET']) with `npx wrangler secret put`"
                + ("" if toml else ", or print them here with --with-secrets")
            )
        elif not config.secrets:
            lines.append(
                "# secrets, not printed: set JWT_SECRET_KEY (simplejwt's SIGNING_KEY) and SYNC_SECRET"
                " (ORG_TOKEN_EDGE['SECRET']) with `npx wrangler secret put`"
                + ("" if toml else ", or print them here with --with-secrets")
            )
        lines.append(
            "# ORG_TOKEN_EDGE['EDGE_CONFIG'] = %r  (the system check warns when it drifts)" % config.fingerprint()
        )
        self.stdout.write("\n".join(lines))
