"""The operator on duty and the change of shift."""
import pytest

from desktop.core.duty import Duty, HandoverError


def test_hand_over_names_the_new_operator_and_tells_the_listeners():
    duty = Duty("  张警官 ")
    assert duty.name == "张警官"
    heard = []
    stop = duty.on_hand_over(lambda old, new, note: heard.append((old, new, note)))
    duty.on_hand_over(lambda *a: 1 / 0)  # a failing listener does not stop the hand-over
    assert duty.hand_over("李警官", "3 号警情待回访") == "张警官"
    assert duty.name == "李警官" and heard == [("张警官", "李警官", "3 号警情待回访")]
    stop()
    duty.hand_over("王警官")
    assert len(heard) == 1


def test_no_name_no_hand_over():
    with pytest.raises(HandoverError):
        Duty("")
    duty = Duty("a")
    with pytest.raises(HandoverError):
        duty.hand_over("   ")
    assert duty.name == "a"
