from django.core.management.base import BaseCommand, CommandError

from accounts import audit_chain


class Command(BaseCommand):
    help = (
        "核验审计日志的哈希链：从头重算每一环，报告第一处断链（记录被修改、删除或事后插入）。"
        "链完整时退出码为 0，有断链时为 1。"
    )

    def handle(self, *args, **options):
        verdict = audit_chain.verify()
        broken = verdict.broken
        if broken is not None:
            record = f"审计记录 #{broken.event_id}" if broken.event_id else "缺失的一环"
            raise CommandError(
                f"审计链在第 {broken.seq} 环断开（{record}）：{broken.reason}。"
                f"此前 {verdict.links} 环完整。"
            )
        self.stdout.write(
            f"审计链完整：{verdict.links} 环逐一核对无误；"
            f"另有 {verdict.unsealed} 条新记录等待下一次入链。"
        )
