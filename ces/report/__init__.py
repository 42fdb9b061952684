"""ces.report"""
