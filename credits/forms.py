"""The admin form to grant or deduct credits (accounts' User page, through credits_adjust)."""

from django import forms


class CreditsAdjustForm(forms.Form):
    amount = forms.IntegerField(
        help_text="Positive to grant, negative to deduct (a deduction never takes the balance below zero).",
        min_value=-1_000_000,
        max_value=1_000_000,
    )
    reason = forms.CharField(
        max_length=255, help_text="Required: why, for the ledger and the admin log.", widget=forms.TextInput(
            attrs={"size": 60}
        )
    )

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("The amount cannot be zero.")
        return amount

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("A reason is required.")
        return reason
