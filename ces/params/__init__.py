"""ces.params"""
