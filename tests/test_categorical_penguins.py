"""Real mixed data: palmerpenguins (species as ground truth; island and sex categorical)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from clusterlab import KMeans, KMedoids, KModes, KPrototypes
from clusterlab.metrics import gower_silhouette_score

NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
CATEGORICAL = ["island", "sex"]


@pytest.fixture(scope="module")
def penguins():
    pp = pytest.importorskip("palmerpenguins")
    df = pp.load_penguins().dropna().reset_index(drop=True)
    scaled = pd.DataFrame(StandardScaler().fit_transform(df[NUMERIC]), columns=NUMERIC)
    return df, scaled


def test_kprototypes_beats_kmeans_on_one_hot(penguins):
    df, scaled = penguins
    onehot = pd.concat([scaled, pd.get_dummies(df[CATEGORICAL]).astype(float)], axis=1)
    km = KMeans(3, n_init=10, random_state=0).fit(onehot)
    kp = KPrototypes(3, random_state=0).fit(pd.concat([scaled, df[CATEGORICAL]], axis=1))
    ari_km = adjusted_rand_score(df["species"], km.labels_)
    ari_kp = adjusted_rand_score(df["species"], kp.labels_)
    assert ari_kp >= ari_km
    assert ari_kp > 0.7
    assert kp.categorical_.tolist() == [4, 5]
    # the prototypes speak the user's language
    assert set(kp.cluster_centroids_[:, 4]) <= {"Biscoe", "Dream", "Torgersen"}


def test_gower_kmedoids_on_raw_table(penguins):
    df, _ = penguins
    raw = df[NUMERIC + CATEGORICAL]
    km = KMedoids(3, metric="gower").fit(raw)
    assert adjusted_rand_score(df["species"], km.labels_) > 0.45
    assert gower_silhouette_score(raw, km.labels_) > 0.3
    assert np.array_equal(km.predict(raw), km.labels_)


def test_kmodes_on_the_categorical_columns(penguins):
    df, _ = penguins
    km = KModes(3).fit(df[[*CATEGORICAL, "species"]])
    # with species itself among the columns, its three values are three modes
    assert sorted(km.cluster_centroids_[:, 2]) == ["Adelie", "Chinstrap", "Gentoo"]
