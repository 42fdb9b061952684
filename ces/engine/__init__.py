"""ces.engine"""
