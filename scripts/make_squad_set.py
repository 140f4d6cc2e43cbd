"""Write a chat question set with unanswerable questions from SQuAD 2.0's public dev file.

SQuAD 2.0 (Rajpurkar, Jia and Liang, 2018; CC BY-SA 4.0) asks crowd workers' questions about
Wikipedia paragraphs; a third of them were written to look answerable from the paragraph but
are not. This script turns the chosen articles into a document store (one Markdown file per
paragraph, headed by the article's title) and a ``chat_questions.jsonl`` in
``evaluation.bench_chat``'s format:

- an answerable question becomes ``{"kind": "answer", "phrases": [its shortest gold answer],
  "doc_id": the paragraph's file}``;
- an unanswerable one becomes ``{"kind": "no_answer"}``.

Ids are numbered in the order of a hash of SQuAD's own question id, so the bench's halves
(even ids: dev, odd: test) are a random split by question, decided before anything is run.

    python scripts/make_squad_set.py --source dev-v2.0.json --out data/squad2 Normans Rhine
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path


def _slug(title: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")


def squad_set(source: dict, titles: list[str]) -> tuple[dict[str, str], list[dict]]:
    """(file path -> Markdown text, question rows) for the articles named ``titles``."""
    articles = {a["title"]: a for a in source["data"]}
    missing = [t for t in titles if t not in articles]
    if missing:
        raise ValueError(f"not in the source: {', '.join(missing)}")
    files: dict[str, str] = {}
    rows: list[dict] = []
    for title in titles:
        for n, paragraph in enumerate(articles[title]["paragraphs"], start=1):
            path = f"{_slug(title)}/{n:02d}.md"
            files[path] = f"# {title.replace('_', ' ')}\n\n{paragraph['context'].strip()}\n"
            for qa in paragraph["qas"]:
                row = {"squad_id": qa["id"], "question": qa["question"].strip()}
                if qa.get("is_impossible"):
                    rows.append({"kind": "no_answer", **row})
                else:
                    shortest = min((a["text"].strip() for a in qa["answers"]), key=len)
                    rows.append({"kind": "answer", **row, "phrases": [shortest], "doc_id": path})
    rows.sort(key=lambda r: hashlib.sha1(r["squad_id"].encode()).hexdigest())
    return files, [{"id": f"sq-{i:04d}", **row} for i, row in enumerate(rows, start=1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, required=True, help="SQuAD 2.0 JSON (dev-v2.0.json)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("titles", nargs="+", help="the articles to take, by title")
    args = parser.parse_args(argv)
    try:
        files, rows = squad_set(json.loads(args.source.read_text(encoding="utf-8")), args.titles)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (KeyError, TypeError) as err:
        print(f"error: {args.source} is not in SQuAD's format ({err!r})", file=sys.stderr)
        return 2
    for path, text in files.items():
        target = args.out / "docs" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    (args.out / "chat_questions.jsonl").write_text(lines, encoding="utf-8")
    print(f"{len(files)} documents, {len(rows)} questions in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
