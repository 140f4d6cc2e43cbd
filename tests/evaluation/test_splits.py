from evaluation.splits import REPORT, TUNE, part_of, split


def test_the_split_is_fixed_by_id_and_set_not_by_order():
    ids = [f"q{i}" for i in range(1, 201)]
    forward, backward = split(ids, "sample"), split(list(reversed(ids)), "sample")
    assert sorted(forward[TUNE]) == sorted(backward[TUNE])
    assert sorted(forward[REPORT]) == sorted(backward[REPORT])
    assert len(forward[TUNE]) + len(forward[REPORT]) == 200
    # about half each: 200 fair coins land within 100 +- 30 far more often than 1 in 1000
    assert 70 <= len(forward[REPORT]) <= 130


def test_an_added_item_moves_no_other():
    before = split(["a", "b", "c", "d"], "set")
    after = split(["a", "b", "c", "d", "e"], "set")
    for part in (TUNE, REPORT):
        assert [i for i in after[part] if i != "e"] == before[part]


def test_each_set_is_dealt_on_its_own():
    ids = [f"q{i}" for i in range(100)]
    assert split(ids, "one") != split(ids, "two")
    assert part_of("q1", "one") in (TUNE, REPORT)
