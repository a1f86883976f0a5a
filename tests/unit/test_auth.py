"""Local bearer tokens: role, territory, signature, expiry."""

from datetime import timedelta

import pytest

from api.auth import InvalidToken, issue_token, verify_token

KEY = "a-local-signing-key-of-at-least-32-bytes"
OTHER = "another-signing-key-of-at-least-32-bytes"


def test_round_trips_role_and_territory_when_signed_with_the_same_key() -> None:
    token = issue_token(KEY, "maire-reims", "mayor", territory="51454")
    p = verify_token(KEY, token)
    assert (p.sub, p.role, p.territory) == ("maire-reims", "mayor", "51454")


def test_rejects_token_when_signed_with_another_key() -> None:
    with pytest.raises(InvalidToken):
        verify_token(KEY, issue_token(OTHER, "x", "citizen"))


def test_rejects_token_when_expired() -> None:
    with pytest.raises(InvalidToken):
        verify_token(KEY, issue_token(KEY, "x", "citizen", ttl=timedelta(seconds=-1)))


def test_refuses_to_issue_when_role_is_unknown() -> None:
    with pytest.raises(ValueError, match="role"):
        issue_token(KEY, "x", "king")
