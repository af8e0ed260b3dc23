from django import forms
from django.template.defaultfilters import filesizeformat

from connectors.models import SellerAccount

# The file is kept in Postgres until its job has run; a year of a busy seller's settlements is tens of MB.
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


class SettlementUploadForm(forms.Form):
    """A settlement report downloaded from Seller Central, and the seller account it belongs to."""

    file = forms.FileField(help_text="The V2 flat file (.txt, tab-separated), plain or gzipped.")
    account = forms.ModelChoiceField(queryset=SellerAccount.objects.all(), required=False,
                                     help_text="May be left out when there is one seller account.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"{upload.name} is {filesizeformat(upload.size)}; the hub takes settlement "
                                        f"files up to {filesizeformat(MAX_UPLOAD_BYTES)} (one report per file).")
        return upload

    def clean_account(self):
        account = self.cleaned_data.get("account")
        if account is None:
            accounts = list(SellerAccount.objects.all()[:2])
            if len(accounts) != 1:
                raise forms.ValidationError("Choose the seller account this settlement belongs to.")
            account = accounts[0]
        return account
