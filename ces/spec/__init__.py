"""ces.spec"""
