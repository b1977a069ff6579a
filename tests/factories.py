import factory

from accounts.models import User
from aiasmr.lifecycle.services import user_register

DEFAULT_PASSWORD = "Secret-pass-123!"


class UserFactory(factory.django.DjangoModelFactory):
    """A registered user: profile and signup bonus through the real registration service."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")

    @classmethod
    def _create(cls, model_class, email, password=DEFAULT_PASSWORD, **kwargs):
        user = user_register(email=email, password=password)
        if kwargs:
            User.objects.filter(pk=user.pk).update(**kwargs)
            user.refresh_from_db()
        return user
