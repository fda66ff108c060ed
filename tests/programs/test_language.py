"""programs/language.py: which questions get rewritten into English search queries."""

from __future__ import annotations

import pytest

from programs.language import looks_english


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("How do I enable CORS?", True),
        ("auth?", True),
        ("CORS?", True),
        ("app.add_middleware(CORSMiddleware, allow_origins=['*'])", True),  # code: searched as asked
        ("How do I add a header a la carte?", True),
        ("", True),
        ("¿Cómo puedo recibir en un endpoint de FastAPI un archivo que sube el usuario?", False),
        ("Como puedo subir un archivo en FastAPI?", False),  # no accents
        ("Wie kann ich CORS aktivieren?", False),
        ("Comment activer CORS dans FastAPI ?", False),
        ("Como faço para usar dependências?", False),
        ("Come posso usare i background tasks?", False),
        ("FastAPI で CORS を有効にするには?", False),
        ("Как включить CORS?", False),
    ],
)
def test_looks_english(text: str, english: bool) -> None:
    assert looks_english(text) is english
