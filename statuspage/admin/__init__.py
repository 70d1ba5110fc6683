from statuspage.admin.routes import bp

__all__ = ["bp"]
