"""`make bench-gpu` on a machine without CUDA: it says so and still measures, on the CPU."""

import json

import pytest

from evaluation.bench_gpu import main, passages

pytestmark = pytest.mark.slow  # loads the real encoder twice


def test_without_cuda_it_says_so_and_times_both_on_the_cpu(capsys, monkeypatch):
    import torch

    # on a machine with CUDA too: the benchmark is made to see none
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    main(["--n", "12", "--batch-size", "4", "--repeats", "1"])
    out = json.loads(capsys.readouterr().out)
    assert out["cuda"] is False and out["note"].startswith("no CUDA")
    assert out["meets_target"] is False and out["passages"] == 12
    assert out["product_passages_per_s"] > 0 and out["plain_st_passages_per_s"] > 0
    assert out["min_cosine_to_plain"] > 0.999  # both are fp32 PyTorch on the CPU


def test_synthetic_passages_stand_in_without_a_dataset(tmp_path):
    texts = passages(tmp_path, 7)  # no corpus.jsonl there
    assert len(texts) == 7 and texts == passages(None, 7)  # deterministic
    assert all(20 <= len(t.split()) < 300 for t in texts)
