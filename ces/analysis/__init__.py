"""ces.analysis"""
