from statuspage.public.routes import bp

__all__ = ["bp"]
