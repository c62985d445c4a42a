"""Qt's own strings follow the interface language (standard buttons of every dialog)."""


def test_qt_standard_buttons_speak_the_interface_language(qapp):
    from PySide6.QtWidgets import QDialogButtonBox

    from desktop.qt.app import install_qt_translations
    translator = install_qt_translations(qapp, "zh_CN")
    try:
        assert translator is not None
        box = QDialogButtonBox(QDialogButtonBox.Close)
        assert box.button(QDialogButtonBox.Close).text() == "关闭"
    finally:
        qapp.removeTranslator(translator)
    assert install_qt_translations(qapp, "en") is None
