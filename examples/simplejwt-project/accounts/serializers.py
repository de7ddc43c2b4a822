from rest_framework_simplejwt.serializers import TokenObtainPairSerializer


class ClaimsTokenObtainPairSerializer(TokenObtainPairSerializer):
    """simplejwt's pair, with claims of the project's own: declared for the edge in
    ORG_TOKEN_EDGE["CLAIMS"], in the order added here."""

    @classmethod
    def get_token(cls, user):
        token = super().get_token(user)
        token['name'] = user.first_name
        token['email'] = user.email
        token['staff'] = user.is_staff
        return token
