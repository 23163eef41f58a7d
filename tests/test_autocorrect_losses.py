"""J_s (eq. 3.2), J_c (eq. 3.3) and the eq. 3.5 gating on hand-computed cases."""

from __future__ import annotations

import math

import torch

from core.autocorrect.losses import (binary_iou, consistency_loss, gate, joint_loss, loss_unit_px, rescale,
                                     self_supervised_loss)
from core.autocorrect.se2 import params_to_matrices


def m(dx, dy, theta=0.0):
    return params_to_matrices(torch.tensor([[dx, dy, theta]], dtype=torch.float32))


def test_self_supervised_loss_is_zero_for_the_inverse_and_squared_frobenius_otherwise():
    g = m(0.2, -0.1, 0.05)
    assert self_supervised_loss(m(0, 0, -0.05) @ m(-0.2, 0.1), g).item() < 1e-10  # g^-1 = R^-1 T^-1
    # t = identity, g = shift (0.3, 0.4): g^-1 - I has entries -0.3, -0.4 -> 0.25
    assert math.isclose(self_supervised_loss(m(0, 0), m(0.3, 0.4)).item(), 0.25, rel_tol=1e-6)


def test_consistency_loss_composes_matrices():
    g1, g2 = m(0.1, 0.0), m(-0.2, 0.1)
    t1, t2 = m(-0.1, 0.0), m(0.2, -0.1)  # both send the label back to the same place
    assert consistency_loss(t1, g1, t2, g2).item() < 1e-10
    # adding parameters instead of composing would miss the rotation's effect on the shift
    t1r = m(0.0, 0.0, 0.1)
    expected = ((t1r @ g1 - m(0, 0)) ** 2).sum().item()
    assert math.isclose(consistency_loss(t1r, g1, m(0, 0) @ torch.linalg.inv(g2), g2).item(), expected,
                        rel_tol=1e-5)


def test_binary_iou_hand_case():
    a = torch.zeros(1, 1, 4, 4)
    b = torch.zeros(1, 1, 4, 4)
    a[..., :2, :] = 1  # 8 pixels
    b[..., 1:3, :] = 1  # 8 pixels, 4 shared
    assert math.isclose(binary_iou(a, b).item(), 4 / 12, rel_tol=1e-6)


def test_gate_uses_consistency_only_where_a_correction_strays_far():
    label = torch.zeros(2, 1, 32, 32)
    label[..., 12:20, 12:20] = 1
    g = m(0.25, 0.0).repeat(2, 1, 1)  # 4 px at a half-window of 16 px
    near = m(-0.25, 0.0)  # sends it back: IoU 1
    far = m(0.25, 0.0)  # lands 8 px away from y: IoU 0
    t = torch.cat([near, far])
    alpha_s, alpha_c = gate(label, t, g, near.repeat(2, 1, 1), g)
    assert alpha_s.tolist() == [1.0, 0.0] and alpha_c.tolist() == [0.0, 1.0]


def test_gate_on_grown_masks_spares_a_thin_label_corrected_a_few_pixels_off():
    label = torch.zeros(1, 1, 32, 32)
    label[..., 4:28, 14:16] = 1  # a 2 px wide track
    g = m(0.25, 0.0)  # 4 px across it
    off, back = m(0.0, 0.0), m(-0.25, 0.0)  # t1 g1 leaves it 4 px away (IoU 0); t2 g2 = identity
    assert gate(label, off, g, back, g)[1].item() == 1.0
    # grown by 4 px: columns 10:20 against 14:24, IoU 6 / 14
    alpha_s, alpha_c = gate(label, off, g, back, g, threshold=0.4, dilate_px=4)
    assert (alpha_s.item(), alpha_c.item()) == (1.0, 0.0)
    assert gate(label, off, g, back, g, threshold=0.45, dilate_px=4)[1].item() == 1.0


def test_joint_loss_gates_at_the_given_iou():
    label = torch.zeros(1, 1, 32, 32)
    label[..., 12:20, 12:20] = 1
    g = m(0.25, 0.0)
    t = m(-0.125, 0.0)  # lands 2 px from y: IoU 6/10 = 0.6
    j_c = consistency_loss(t, g, m(-0.25, 0.0), g)
    j_s = 0.5 * (self_supervised_loss(t, g) + self_supervised_loss(m(-0.25, 0.0), g))
    assert math.isclose(joint_loss(t, g, m(-0.25, 0.0), g, label, gate_iou=0.5).item(), j_s.item(), rel_tol=1e-6)
    assert math.isclose(joint_loss(t, g, m(-0.25, 0.0), g, label, gate_iou=0.7).item(), j_c.item(), rel_tol=1e-6)


def test_joint_loss_early_phase_sums_both_terms():
    g1, g2, t1, t2 = m(0.1, 0), m(0, 0.1), m(0, 0), m(0, 0)
    j_s = 0.5 * (self_supervised_loss(t1, g1) + self_supervised_loss(t2, g2))
    j_c = consistency_loss(t1, g1, t2, g2)
    assert math.isclose(joint_loss(t1, g1, t2, g2, None).item(), (j_s + j_c).item(), rel_tol=1e-6)


def test_verified_labels_get_j_s_alone_even_in_the_early_phase():
    g1, g2, t1, t2 = m(0.1, 0), m(0, 0.1), m(0, 0), m(0.05, 0)
    j_s = 0.5 * (self_supervised_loss(t1, g1) + self_supervised_loss(t2, g2))
    j_c = consistency_loss(t1, g1, t2, g2)
    clean = torch.tensor([True])
    assert math.isclose(joint_loss(t1, g1, t2, g2, None, clean).item(), j_s.item(), rel_tol=1e-6)
    assert math.isclose(joint_loss(t1, g1, t2, g2, None, ~clean).item(), (j_s + j_c).item(), rel_tol=1e-6)


def test_loss_unit_balances_the_largest_shift_and_the_largest_turn():
    unit = loss_unit_px(20.0, 5.0)
    assert math.isclose(unit, 20 / (math.sqrt(2) * math.sin(math.radians(5))), rel_tol=1e-12)  # ~162 px
    shift = self_supervised_loss(m(0, 0), rescale(m(20.0, 0), 1 / unit)).item()  # 20 px, in units
    turn = self_supervised_loss(m(0, 0), m(0, 0, math.radians(5))).item()
    assert math.isclose(shift, turn, rel_tol=0.01)


def test_rescale_changes_only_the_translation():
    g = m(0.3, -0.2, 0.05)
    r = rescale(g, 0.5)
    assert torch.allclose(r[:, :2, :2], g[:, :2, :2]) and torch.allclose(r[:, :2, 2], 0.5 * g[:, :2, 2])
