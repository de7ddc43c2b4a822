from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication


class WhoAmIView(APIView):
    """The user an access token names: simplejwt's JWTAuthentication, nothing else."""

    authentication_classes = [JWTAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({'id': request.user.pk, 'username': request.user.get_username()})
