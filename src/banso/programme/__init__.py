"""Guideline and funding pillar (DESIGN F1–F5, C2): technology registry, K Program fund ledger,
calls, proposals, review, adoption, projects and think-tank commissions.
"""
