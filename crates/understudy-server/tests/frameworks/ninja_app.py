"""A small django-ninja app whose OpenAPI 3.1 description is `ninja.json` beside this file.

Regenerate with `pip install django-ninja==1.3.0 && python3 ninja_app.py > ninja.json`.
"""
import json
from datetime import date
from typing import List, Optional

import django
from django.conf import settings

settings.configure(DEBUG=False, ROOT_URLCONF=__name__, SECRET_KEY="x", ALLOWED_HOSTS=["*"])
django.setup()

from ninja import Field, NinjaAPI, Schema  # noqa: E402

api = NinjaAPI(title="Library", version="2.0.0")


class BookIn(Schema):
    title: str = Field(..., min_length=1, max_length=200)
    isbn: str = Field(..., pattern=r"^97[89]\d{10}$")
    published: Optional[date] = None
    pages: int = Field(..., gt=0)
    authors: List[str] = Field(..., min_length=1)


class BookOut(BookIn):
    id: int


class Message(Schema):
    message: str


@api.post("/books", response={201: BookOut, 409: Message})
def create_book(request, book: BookIn):
    raise NotImplementedError


@api.get("/books/{book_id}", response={200: BookOut, 404: Message})
def read_book(request, book_id: int):
    raise NotImplementedError


@api.get("/books", response=List[BookOut])
def list_books(request, author: Optional[str] = None, limit: int = 10):
    raise NotImplementedError


from django.urls import path  # noqa: E402

urlpatterns = [path("api/", api.urls)]

if __name__ == "__main__":
    print(json.dumps(api.get_openapi_schema(), indent=2))
