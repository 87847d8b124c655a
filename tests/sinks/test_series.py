"""TrackSeries hands the charts exactly the arrays the sinks' lists gave (values and dtypes), in less memory."""

import numpy as np

from emotrace.sinks.series import TrackSeries


def test_series_equals_the_lists_it_replaces():
    rng = np.random.default_rng(0)
    s = TrackSeries(7, capacity=4)  # grows several times
    ts, ps, labels = [], [], []
    for i in range(1000):
        p = rng.dirichlet(np.ones(7)).astype(np.float32)
        t = i / 29.97
        s.append(t, p, int(np.argmax(p)))
        ts.append(float(t))
        ps.append(p.astype(np.float16))
        labels.append(int(np.argmax(p)))
    assert len(s) == 1000
    for got, want in ((s.t, np.array(ts)), (s.probs, np.array(ps, np.float32)), (s.labels, np.array(labels))):
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want)
    assert float(s.t.min()) == min(ts) and float(s.t.max()) == max(ts)
