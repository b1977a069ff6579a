"""The back office's free credits: reward tables editable, per-user check-ins and referrals, the dashboard."""

from django.urls import reverse
from django.utils import timezone

from aiasmr.backoffice.selectors import dashboard_data
from rewards.check_ins import check_in_perform
from rewards.models import CheckInReward, ReferralRewardRule
from rewards.referrals import referral_attach, referral_code_get
from rewards.seed import reward_tables_ensure
from tests.admin.conftest import admin_url
from tests.factories import UserFactory
from tests.videos.test_gallery import ready_video
from videos.models import Video


def test_staff_edit_the_reward_tables_in_the_list(su_client):
    reward_tables_ensure()
    rewards = list(CheckInReward.objects.order_by("day"))
    form = {"form-TOTAL_FORMS": "7", "form-INITIAL_FORMS": "7", "_save": "Save"}
    for i, reward in enumerate(rewards):
        form |= {
            f"form-{i}-id": reward.pk,
            f"form-{i}-credits": 9 if reward.day == 7 else reward.credits,
            f"form-{i}-is_special": "on" if reward.is_special else "",
            f"form-{i}-title": reward.title,
        }
    answer = su_client.post(admin_url("rewards/checkinreward/"), form)
    assert answer.status_code == 302
    assert CheckInReward.objects.get(day=7).credits == 9
    assert su_client.get(admin_url("rewards/referralrewardrule/")).status_code == 200
    assert ReferralRewardRule.objects.count() == 3


def test_a_users_page_shows_their_check_ins_and_referrals(su_client):
    reward_tables_ensure()
    referrer, friend = UserFactory(), UserFactory()
    referral_attach(user=friend, code=referral_code_get(user=referrer).code)
    check_in_perform(user=referrer)
    page = su_client.get(admin_url(f"accounts/user/{referrer.pk}/change/")).content.decode()
    assert "Check-ins (newest first)" in page and friend.email in page and "registration +5" in page
    assert su_client.get(admin_url("rewards/checkin/")).status_code == 200
    assert su_client.get(admin_url("rewards/referralgrant/")).status_code == 200


def test_the_dashboard_counts_free_credits_per_day_beside_purchases(su_client):
    reward_tables_ensure()
    today = timezone.now().date()

    def free_today() -> int:
        data = dashboard_data(days=7)
        return data["credits"]["free"][data["days"].index(today)]

    before = free_today()
    user = UserFactory()  # signup bonus 20
    check_in_perform(user=user)  # +1
    assert free_today() == before + 21
    assert "Free (bonus, check-in, referral)" in su_client.get(reverse("admin:dashboard")).content.decode()


def test_staff_feature_and_hide_videos_from_the_list(su_client):
    video = ready_video(UserFactory(), is_public=True)
    for action in ("gallery_feature", "gallery_hide"):
        su_client.post(admin_url("videos/video/"), {"action": action, "_selected_action": [str(video.pk)]})
    video.refresh_from_db()
    assert video.is_featured and video.is_hidden
    assert not Video.objects.filter(pk=video.pk, is_hidden=False).exists()
