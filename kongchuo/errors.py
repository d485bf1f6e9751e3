"""The one application error. Services raise it; the API and the pages turn it into 400s."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


class AppError(Exception):
    """A refused business action, with messages in Chinese keyed by the input field at fault.

    ``AppError("原因")`` is a refusal of the whole action; ``AppError("原因", field="code")``
    points at one field. Forms attach the messages to their fields; the API returns them
    under the same keys.
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.errors: dict[str, list[str]] = {field or "non_field_errors": [message]}

    @classmethod
    def for_fields(cls, errors: dict[str, str]) -> "AppError":
        """A refusal naming several fields at once (every missing field, not only the
        first); the summary message lists them all."""
        error = cls("；".join(errors.values()))
        error.errors = {field: [message] for field, message in errors.items()}
        return error

    @classmethod
    def from_validation(cls, exc: ValidationError) -> "AppError":
        if hasattr(exc, "error_dict"):
            errors = {
                ("non_field_errors" if key == NON_FIELD_ERRORS else key): messages
                for key, messages in exc.message_dict.items()
            }
        else:
            errors = {"non_field_errors": exc.messages}
        first_messages = next(iter(errors.values()))
        error = cls(first_messages[0])
        error.errors = errors
        return error
