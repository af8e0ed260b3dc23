from django import forms

from connectors.models import SellerAccount


class SettlementUploadForm(forms.Form):
    """A settlement report downloaded from Seller Central, and the seller account it belongs to."""

    file = forms.FileField(help_text="The V2 flat file (.txt, tab-separated), plain or gzipped.")
    account = forms.ModelChoiceField(queryset=SellerAccount.objects.all(), required=False,
                                     help_text="May be left out when there is one seller account.")

    def clean_account(self):
        account = self.cleaned_data.get("account")
        if account is None:
            accounts = list(SellerAccount.objects.all()[:2])
            if len(accounts) != 1:
                raise forms.ValidationError("Choose the seller account this settlement belongs to.")
            account = accounts[0]
        return account
