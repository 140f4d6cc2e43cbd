"""The bounded parse workers: time and memory limits, crashes, and no worker left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import docx
import pytest

from search.ingest import ParseLimits, load_folder
from search.ingest.workers.pool import _checked_document, _Worker
from search.ingest.workers.protocol import Task, death_reason, receive

REPO = Path(__file__).parents[3]
WORD_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CONTENT_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="word/document.xml" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument"/></Relationships>'
)
TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (which may hold spaces), or None."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return raw[raw.rindex(")") + 2 :].split()


def children(parent: int) -> set[int]:
    """Every process whose parent is `parent`, zombies included (a zombie was never reaped)."""
    pids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) and int(fields[1]) == parent:
            pids.add(int(entry))
    return pids


def busy_workers(parent: int) -> list[int]:
    """Parse workers of `parent` past start-up (well under 1.5 s of CPU): busy on a file."""
    found = []
    for pid in children(parent):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if b"search.ingest.workers.child" in command and cpu_seconds(pid) > 1.5:
            found.append(pid)
    return found


def running(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def cpu_seconds(pid: int) -> float:
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / TICKS if fields else 0.0


def make_docx(path: Path, text: str) -> None:
    document = docx.Document()
    document.add_paragraph(text)
    document.save(str(path))


def test_slow_file_times_out_and_a_fresh_worker_takes_over(tmp_path, slow_pdf):
    (tmp_path / "a-hangs.pdf").write_bytes(slow_pdf)  # minutes of pypdf work
    make_docx(tmp_path / "b-fine.docx", "Fine words.")
    before = children(os.getpid())
    started = time.monotonic()
    report = load_folder(tmp_path, ParseLimits(timeout_seconds=2), workers=1)
    assert time.monotonic() - started < 60  # 2 s for the slow file, the rest is start-up
    assert {r.path: r.reason for r in report.rejected} == {
        "a-hangs.pdf": "parsing took longer than 2 s (ParseLimits.timeout_seconds); the file "
        "may be malformed or hostile: split it, remove it, or raise the limit"
    }
    assert [d.id for d in report.documents] == ["b-fine.docx"]  # a fresh worker took over
    assert children(os.getpid()) <= before  # the killed worker and the last one were reaped


def test_a_file_over_the_memory_limit_is_rejected_and_the_rest_goes_on(tmp_path):
    (tmp_path / "big.txt").write_bytes(b"lorem ipsum dolor sit\n" * 2_000_000)  # 44 MB
    (tmp_path / "small.txt").write_text("Small and fine.\n")
    report = load_folder(tmp_path, ParseLimits(max_memory_bytes=256 * 1024**2), workers=1)
    assert {r.path: r.reason for r in report.rejected} == {
        "big.txt": "parsing needed more than 256 MiB of memory (ParseLimits.max_memory_bytes); "
        "split the file, remove it, or raise the limit"
    }
    assert [d.text for d in report.documents] == ["Small and fine."]


def test_a_worker_that_crashes_is_reported_and_replaced(tmp_path, slow_pdf):
    (tmp_path / "a-crashes.pdf").write_bytes(slow_pdf)
    (tmp_path / "b-fine.txt").write_text("Fine words.\n")
    me = os.getpid()

    def crash_the_busy_worker() -> None:  # what a parser's bad pointer would do
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if busy := busy_workers(me):
                os.kill(busy[0], signal.SIGSEGV)
                return
            time.sleep(0.1)

    crasher = threading.Thread(target=crash_the_busy_worker)
    crasher.start()
    try:
        report = load_folder(tmp_path, workers=1)
    finally:
        crasher.join()
    assert {r.path: r.reason for r in report.rejected} == {
        "a-crashes.pdf": "the parser process died on this file (signal SIGSEGV); the file may "
        "be malformed or need more than 2,048 MiB of memory (ParseLimits.max_memory_bytes): "
        "re-save it, remove it, or raise the limit"
    }
    assert [d.text for d in report.documents] == ["Fine words."]  # by a fresh worker


def test_a_docx_whose_xml_outgrows_the_memory_limit(tmp_path):
    """300,000 paragraphs (14 MB of XML in 3 MB of zip, under the zip limits) need more than
    200 MiB once lxml builds them; libxml2 says so as "unknown error", the limit is named."""
    rows = "".join(f"<w:p><w:r><w:t>word{n % 5000} w{n}</w:t></w:r></w:p>" for n in range(300_000))
    xml = f'<w:document xmlns:w="{WORD_NS}"><w:body>{rows}</w:body></w:document>'
    with zipfile.ZipFile(tmp_path / "big.docx", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        zf.writestr("word/document.xml", xml)
    report = load_folder(tmp_path, ParseLimits(max_memory_bytes=200 * 1024**2), workers=1)
    assert [(r.path, r.reason) for r in report.rejected] == [
        (
            "big.docx",
            "parsing needed more than 200 MiB of memory (ParseLimits.max_memory_bytes); "
            "split the file, remove it, or raise the limit",
        )
    ]


def test_the_cpu_limit_stops_a_worker_whose_parent_does_not(tmp_path, slow_pdf):
    """The parent's deadline is the usual stop; RLIMIT_CPU is the one that needs no parent."""
    path = tmp_path / "slow.pdf"
    path.write_bytes(slow_pdf)
    limits = ParseLimits(timeout_seconds=1)  # CPU budget: ceil(1) + 1 = 2 s
    worker = _Worker(limits)
    try:
        assert receive(worker.results) == {"ready": True}
        info = path.stat()
        worker.give(0, Task("slow.pdf", str(path), "pdf", info.st_dev, info.st_ino), limits)
        returncode = worker.process.wait(timeout=120)  # nobody enforces the 1 s deadline here
    finally:
        worker.stop(kill=True)
    assert returncode == -signal.SIGXCPU
    assert death_reason(returncode, limits) == (
        "parsing used more than 2 s of CPU time (ParseLimits.timeout_seconds); "
        "split the file, remove it, or raise the limit"
    )


def test_ctrl_c_reaps_busy_workers_at_once(tmp_path, slow_pdf):
    (tmp_path / "a-slow.pdf").write_bytes(slow_pdf)
    for n in range(3):
        (tmp_path / f"b-{n}.txt").write_text(f"File {n}.\n")

    def interrupt(stage, done, total):
        raise KeyboardInterrupt

    before = children(os.getpid())
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        load_folder(tmp_path, progress=interrupt, workers=2)
    assert time.monotonic() - started < 30  # it did not wait for the slow file (60 s limit)
    assert children(os.getpid()) <= before


def test_results_come_in_path_order_whatever_order_workers_finish_in(tmp_path):
    # Big files first in name order, so with two workers later names finish earlier.
    for n in range(8):
        (tmp_path / f"{n:02d}.txt").write_text(f"File {n}.\n" * (20_000 // (n + 1)))
    one = load_folder(tmp_path, workers=1)
    two = load_folder(tmp_path, workers=2)
    assert [d.id for d in two.documents] == [f"{n:02d}.txt" for n in range(8)]
    assert two == one


@pytest.mark.slow
def test_no_worker_outlives_a_killed_parent(tmp_path, slow_pdf):
    """kill -9 of a build while a worker is busy: the worker dies too (PR_SET_PDEATHSIG)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "slow.pdf").write_bytes(slow_pdf)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    script = "import sys; from search.ingest import load_folder; load_folder(sys.argv[1])"
    parent = subprocess.Popen([sys.executable, "-c", script, str(docs)], env=env)
    try:
        deadline = time.monotonic() + 120
        busy: set[int] = set()
        while not busy and time.monotonic() < deadline:
            busy = set(busy_workers(parent.pid))
            time.sleep(0.2)
        assert busy, "no worker got busy on the slow file"
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 5
        while any(running(pid) for pid in busy) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(running(pid) for pid in busy)
    finally:
        parent.kill()
        parent.wait()


@pytest.mark.parametrize(
    "values",
    [
        {"id": "other.txt", "title": "", "text": "x", "metadata": {}},  # not the file it was given
        {"id": "a.txt", "title": "", "text": 1, "metadata": {}},  # text is not text
        {"id": "a.txt", "title": "", "text": "x"},  # a field missing
        ["a.txt", "", "x", {}],
    ],
)
def test_the_parent_refuses_a_malformed_result(values):
    task = Task("a.txt", "/nowhere/a.txt", "text", 0, 0)
    assert _checked_document({"document": values}, task) is None
    good = {"id": "a.txt", "title": "A", "text": "x", "metadata": {}}
    assert _checked_document({"document": good}, task).text == "x"
