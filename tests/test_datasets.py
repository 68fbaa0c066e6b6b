from clusterlab.datasets import load_wholesale_customers


def test_wholesale_bundled():
    df = load_wholesale_customers()
    assert df.shape == (440, 8)
    assert list(df.columns) == [
        "Channel",
        "Region",
        "Fresh",
        "Milk",
        "Grocery",
        "Frozen",
        "Detergents_Paper",
        "Delicassen",
    ]
    assert set(df["Channel"]) == {1, 2}
    assert df.notna().all().all()
