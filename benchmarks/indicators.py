"""The dashboards' indicators at province and county scale (issue 14)."""


def run(requests: int) -> None:
    raise NotImplementedError
