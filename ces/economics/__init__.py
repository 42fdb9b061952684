"""ces.economics"""
