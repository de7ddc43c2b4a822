"""The system checks (org_token_edge/checks.py), as `manage.py check` runs them: each
warning's id, message and hint, for each way ORG_TOKEN_EDGE can be wrong."""
from django.core import checks
from django.test import SimpleTestCase, override_settings

GOOD_SECRET = "check-test-secret-that-is-long-enough-0123"
GOOD = {"URL": "https://ps.example.org", "SECRET": GOOD_SECRET}
NOT_STARTED_HINT = "Changes are recorded in the outbox and delivered once the setting is right."


def found():
    """(id, message, hint) of each org_token_edge message the registered checks report."""
    return [
        (message.id, message.msg, message.hint)
        for message in checks.run_checks()
        if (message.id or "").startswith("org_token_edge.")
    ]


def not_started(message):
    return [("org_token_edge.W001", message, NOT_STARTED_HINT)]


class ConfigurationCheckTests(SimpleTestCase):
    @override_settings(ORG_TOKEN_EDGE=GOOD)
    def test_a_good_setting_reports_nothing(self):
        self.assertEqual(found(), [])

    @override_settings(ORG_TOKEN_EDGE=dict(GOOD, URL="https://ps.example.org/api/org_token/sync/", TIMEOUT="5"))
    def test_the_receivers_own_url_and_a_timeout_given_as_text_report_nothing(self):
        self.assertEqual(found(), [])

    def test_a_missing_setting_is_w001_naming_the_url(self):
        message = "ORG_TOKEN_EDGE['URL'] must be the edge's base URL (https://ps.<domain>); deliveries not started"
        for value in (None, {}):
            with self.subTest(value=value), override_settings(ORG_TOKEN_EDGE=value):
                self.assertEqual(found(), not_started(message))

    def test_a_url_that_is_not_http_is_w001(self):
        message = "ORG_TOKEN_EDGE['URL'] must be the edge's base URL (https://ps.<domain>); deliveries not started"
        for url in ("ps.example.org", "ftp://ps.example.org", 42):
            with self.subTest(url=url), override_settings(ORG_TOKEN_EDGE=dict(GOOD, URL=url)):
                self.assertEqual(found(), not_started(message))

    @override_settings(ORG_TOKEN_EDGE={"URL": "https://ps.example.org"})
    def test_a_missing_secret_is_w001(self):
        self.assertEqual(found(), not_started("ORG_TOKEN_EDGE['SECRET'] is not set; deliveries not started"))

    @override_settings(ORG_TOKEN_EDGE=dict(GOOD, SECRET="short"))
    def test_a_short_secret_is_w001_with_its_length(self):
        self.assertEqual(
            found(),
            not_started(
                "ORG_TOKEN_EDGE['SECRET'] is 5 bytes, it must be at least 32 (the edge's SYNC_SECRET, the same value);"
                " deliveries not started"
            ),
        )

    def test_a_whsec_secret_counts_its_decoded_bytes(self):
        with override_settings(ORG_TOKEN_EDGE=dict(GOOD, SECRET="whsec_" + "QUJD" * 8)):  # 24 bytes
            self.assertEqual(found()[0][1][:44], "ORG_TOKEN_EDGE['SECRET'] is 24 bytes, it mus")
        with override_settings(ORG_TOKEN_EDGE=dict(GOOD, SECRET="whsec_" + "QUJD" * 11)):  # 33 bytes
            self.assertEqual(found(), [])
        with override_settings(ORG_TOKEN_EDGE=dict(GOOD, SECRET="whsec_not base64!")):
            self.assertEqual(found(), not_started("ORG_TOKEN_EDGE['SECRET'] starts with whsec_ but is not base64"))

    def test_a_timeout_that_is_not_a_positive_number_is_w001(self):
        for timeout in ("ten", 0, -1, None, float("nan")):
            with self.subTest(timeout=timeout), override_settings(ORG_TOKEN_EDGE=dict(GOOD, TIMEOUT=timeout)):
                self.assertEqual(
                    found(),
                    not_started(
                        "ORG_TOKEN_EDGE['TIMEOUT'] must be a positive number of seconds, not %r;"
                        " deliveries not started" % (timeout,)
                    ),
                )

    @override_settings(ORG_TOKEN_EDGE=["https://ps.example.org", GOOD_SECRET])
    def test_a_setting_that_is_not_a_dict_is_w001_and_the_models_are_still_found(self):
        self.assertEqual(found(), not_started("ORG_TOKEN_EDGE must be a dict"))

    @override_settings(ORG_TOKEN_EDGE=dict(GOOD, ORG_MODEL="users.Organization", MEMBERSHIP_MODEL=None))
    def test_a_model_not_found_is_w002_naming_it(self):
        self.assertEqual(
            found(),
            [
                ("org_token_edge.W002", "org_token_edge: no %s model found; its changes are not recorded" % name, None)
                for name in ("organization", "membership")
            ],
        )

    @override_settings(ORG_TOKEN_EDGE=dict(GOOD, USER_MODEL="nolabel", ORG_MODEL=42))
    def test_a_label_that_is_not_app_dot_model_is_a_model_not_found(self):
        self.assertEqual(
            [(id_, msg) for id_, msg, _ in found()],
            [
                ("org_token_edge.W002", "org_token_edge: no user model found; its changes are not recorded"),
                ("org_token_edge.W002", "org_token_edge: no organization model found; its changes are not recorded"),
            ],
        )

    @override_settings(ORG_TOKEN_EDGE={"SECRET": "short", "MEMBERSHIP_MODEL": "users.Nope"})
    def test_both_at_once_and_they_are_warnings(self):
        messages = [message for message in checks.run_checks() if (message.id or "").startswith("org_token_edge.")]
        self.assertEqual([message.id for message in messages], ["org_token_edge.W001", "org_token_edge.W002"])
        self.assertTrue(all(message.level == checks.WARNING for message in messages))
