"""Notifications (通知): an in-app inbox, immediate e-mail and a daily digest."""
