"""Technology intelligence (T1–T7): OpenAlex snapshot → Parquet store → indicators → TOPSIS → reports.

Layout: ``expressions`` (pure Ibis expressions), ``topsis`` (pure numpy), and the I/O modules
``synth``, ``ingest``, ``store``, ``technologies``, ``engine``, ``prioritise``, ``report``.
"""
