from search.retrieval import min_max, rrf, weighted


def test_rrf_sums_reciprocal_ranks():
    a = {"x": 3.0, "y": 2.0}  # x rank 1, y rank 2
    b = {"y": 0.9, "z": 0.5}  # y rank 1, z rank 2
    fused = rrf([a, b], k=60)
    assert fused["y"] == 1 / (60 + 2) + 1 / (60 + 1)
    assert fused["x"] == 1 / (60 + 1)
    assert fused["z"] == 1 / (60 + 2)
    assert max(fused, key=fused.get) == "y"


def test_min_max_and_weighted():
    assert min_max({"a": 2.0, "b": 4.0, "c": 3.0}) == {"a": 0.0, "b": 1.0, "c": 0.5}
    assert min_max({"a": 5.0}) == {"a": 1.0}
    fused = weighted([{"a": 2.0, "b": 4.0}, {"a": 0.8, "c": 0.4}], [0.25, 0.75])
    # a: 0.25*0 + 0.75*1 = 0.75; b: 0.25*1 = 0.25; c: 0.75*0 = 0
    assert fused == {"a": 0.75, "b": 0.25, "c": 0.0}
