"""The seeded demo: a realistic cast of ministries, agencies, universities, companies and a think tank."""
