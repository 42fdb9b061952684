"""ces.survival"""
