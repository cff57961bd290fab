"""Technology intelligence (T1–T7): OpenAlex snapshot → Parquet store → indicators → TOPSIS → reports.

Layout: ``expressions`` (pure Ibis expressions), ``topsis`` (pure numpy), and the I/O modules
``synth``, ``snapshot`` (reader), ``fastread``, ``store`` (format), ``ingest`` (one run),
``technologies``, ``keywords``, ``engine``, ``prioritise``, ``report``, ``charts``; settings in ``config``.

A leaf library: it imports nothing else of banso (filing into councils is :mod:`banso.thinktank.cli`).
"""
