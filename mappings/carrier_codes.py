"""Carrier codes Amazon accepts in `carrierCode` (FACTS.md section 2 / shared carrier_codes.tsv).

Seller Central's drop-down is the authority; anything not listed is sent as `Other` with a
carrier name. Extend the list with HUB_EXTRA_CARRIER_CODES (comma separated) without a release.
"""

from integration_hub.env import envlist

OTHER = "Other"

_KNOWN = (
    "4PX", "A-1", "AAA Cooper", "ABF", "AFL/Fedex", "Amazon Shipping", "AMZL", "AMZL_UK", "AO", "APC",
    "APC Overnight", "Aramex", "Arrow XL", "Asendia", "Australia Post", "Blue Package", "BlueDart", "BPOST",
    "BRT", "Canada Post", "Chronopost", "City Link", "Citypost", "Colissimo", "Correos", "DB Schenker",
    "Delhivery", "Deutsche Post", "DHL", "DHL eCommerce", "DHL Express", "DHL Global Mail", "DHL Parcel UK",
    "DPD", "DPD Local", "DTDC", "DX", "DX Express", "DX Freight", "DX Secure", "Estes", "Fastway", "FedEx",
    "FedEx SmartPost", "FEDEX_JP", "First Flight", "GEODIS", "GFS", "GLS", "GO!", "Hermes",
    "Hermes Logistik Gruppe", "Hermes UK", "Hongkong Post", "Huxloe Logistics", "India Post", "InPost",
    "Interlink", "JP_EXPRESS", "La Poste", "Lasership", "Newgistics", "NipponExpress", "NITTSU", "OnTrac",
    "OSM", OTHER, "Overnite Express", "Parcel2Go.com", "Parcelforce", "Parcelhub", "Parcelnet",
    "Poste Italiane", "Professional", "Royal Mail", "SAGAWA", "SagawaExpress", "SDA", "Smartmail",
    "Streamlite", "Target", "The Delivery Group", "TNT", "Tuffnells", "UK MAIL", "UPS",
    "UPS Mail Innovations", "UPSMI", "USPS", "Whistl", "XDP", "XPO", "YAMATO", "YamatoTransport", "Yodel",
)

CARRIER_CODES = tuple(sorted(set(_KNOWN) | set(envlist("HUB_EXTRA_CARRIER_CODES")), key=str.lower))
CARRIER_CODE_CHOICES = [(code, code) for code in CARRIER_CODES]
