"""One export in a process of its own, for roster_export: prints a JSON line with the rows
written, the wall time of the writing and the process's peak resident memory."""

import json
import os
import pickle
import resource
import sys
import time


def _peak_mb() -> float:
    """Peak resident memory of this process. VmHWM, not ru_maxrss: Linux carries ru_maxrss
    over fork and exec, so a child of a big parent would report the parent's size."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def write_roster(username: str, path: str) -> int:
    import django

    django.setup()
    from accounts.models import User
    from students.exports import write_roster

    user = User.objects.get(username=username)
    start = time.perf_counter()
    rows = write_roster(path, user, {})
    return rows, time.perf_counter() - start


def baseline(stream: str, path: str) -> int:
    import xlsxwriter

    start = time.perf_counter()
    workbook = xlsxwriter.Workbook(
        path,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "default_date_format": "yyyy-mm-dd",
        },
    )
    sheet = workbook.add_worksheet("花名册")
    rows = 0
    with open(stream, "rb") as handle:
        sheet.write_row(0, 0, pickle.load(handle))  # noqa: S301 — the headings first
        while True:
            try:
                batch = pickle.load(handle)  # noqa: S301 — our own file, written just before
            except EOFError:
                break
            for row in batch:
                rows += 1
                sheet.write_row(rows, 0, row)
    workbook.close()
    return rows, time.perf_counter() - start


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kongchuo.settings.test")
    mode, *args = sys.argv[1:]
    rows, seconds = {"write_roster": write_roster, "baseline": baseline}[mode](*args)
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_mb": _peak_mb()}))


if __name__ == "__main__":
    main()
