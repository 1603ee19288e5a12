"""The WSGI application, for any WSGI server: ``granian --interface wsgi server:app``.

``python server.py`` serves it the same way as ``leapsld serve`` (Granian, validated first).
"""

from leapsld.settings import Settings

if __name__ == "__main__":
    from leapsld.cli import main

    main(["serve"])
else:
    from leapsld.web import create_app

    app = create_app(Settings.from_env())
