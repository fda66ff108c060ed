"""The HTTP service: thin routers over programs loaded once in ``lifespan``.

fda serve            # or: make run
"""
