"""The students app's item on the home page (accounts.home): 学籍异动 waiting for the school —
transfers into one of its schools to accept or refuse."""

from django.urls import reverse

from accounts import home

from . import selectors


@home.register(30)
def transfer_items(where: home.Desk) -> list[home.Item]:
    if not where.at_school:
        return []
    return [
        home.Item(
            key="transfers-incoming",
            label="待接收的转入学生",
            count=selectors.incoming_transfers(where.user).count(),
            hint="核对后接收并分班，或说明原因退回",
            url=reverse("transfer-list"),
        )
    ]
