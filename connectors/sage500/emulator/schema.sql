-- Sage 500 emulator: the subset of the Sage 500 ERP schema the hub reads and writes, in a Postgres
-- schema of its own (the installer sets search_path). Names and widths follow BACKOFFICE.md section 4;
-- tables marked [I] stand in for site-specific or unverified storage. Idempotent: IF NOT EXISTS throughout.

-- Surrogate keys: spGetNextSurrogateKey hands out the next key per table name.
CREATE TABLE IF NOT EXISTS tciSurrogateKey (
    TableName   varchar(60) PRIMARY KEY,
    NextKey     int NOT NULL
);

-- Emulator knobs (not a Sage table): batch size of the API procedures.
CREATE TABLE IF NOT EXISTS zEmulatorSetting (
    SettingName varchar(60) PRIMARY KEY,
    SettingValue varchar(200) NOT NULL
);

CREATE TABLE IF NOT EXISTS tsmCompany (
    CompanyID   varchar(3) PRIMARY KEY,
    CompanyName varchar(40) NOT NULL,
    CurrID      varchar(3) NOT NULL DEFAULT 'GBP',
    NextSOTranNo int NOT NULL DEFAULT 1,
    NextBatchNo  int NOT NULL DEFAULT 1,
    NextShipTranNo int NOT NULL DEFAULT 1
);

CREATE TABLE IF NOT EXISTS tsmCompanySetup (
    CompanyID    varchar(3) NOT NULL,
    SetupStepKey int NOT NULL,
    PRIMARY KEY (CompanyID, SetupStepKey)
);

CREATE TABLE IF NOT EXISTS tsmMigrateSession (
    MigrateSessionKey    int PRIMARY KEY,
    CompanyID            varchar(3) NOT NULL,
    SetupStepKey         int NOT NULL,
    UserID               varchar(30) NOT NULL,
    StartTime            timestamp NOT NULL,
    LastCompProcessKey   int NULL,
    LastCompProcessTime  timestamp NULL
);

CREATE TABLE IF NOT EXISTS tdmMigrationLogWrk (
    LogKey      serial PRIMARY KEY,  -- emulator only: keeps the rows in writing order
    ColumnID    varchar(35) NOT NULL DEFAULT '',
    ColumnValue varchar(100) NOT NULL DEFAULT '',
    Duplicate   smallint NOT NULL DEFAULT 0,
    Comment     varchar(255) NOT NULL DEFAULT '',
    EntityID    varchar(35) NOT NULL DEFAULT '',
    Status      smallint NOT NULL,   -- 0 info, 1 failure, 2 warning, 3 success
    SessionKey  int NOT NULL
);

CREATE TABLE IF NOT EXISTS tarCustomer (
    CustKey     int PRIMARY KEY,
    CompanyID   varchar(3) NOT NULL,
    CustID      varchar(12) NOT NULL,
    CustName    varchar(40) NOT NULL,
    Status      smallint NOT NULL DEFAULT 1,  -- 1 active, 2 inactive, 3 temporary, 4 deleted
    UNIQUE (CompanyID, CustID)
);

CREATE TABLE IF NOT EXISTS timWarehouse (
    WhseKey     int PRIMARY KEY,
    CompanyID   varchar(3) NOT NULL,
    WhseID      varchar(6) NOT NULL,
    Description varchar(30) NOT NULL DEFAULT '',
    UNIQUE (CompanyID, WhseID)
);

CREATE TABLE IF NOT EXISTS timWhseBin (
    WhseBinKey    int PRIMARY KEY,
    WhseKey       int NOT NULL REFERENCES timWarehouse,
    WhseBinID     varchar(15) NOT NULL,
    ExclFromAvail smallint NOT NULL DEFAULT 0,
    UNIQUE (WhseKey, WhseBinID)
);

CREATE TABLE IF NOT EXISTS timItem (
    ItemKey     int PRIMARY KEY,
    CompanyID   varchar(3) NOT NULL,
    ItemID      varchar(30) NOT NULL,
    Status      smallint NOT NULL DEFAULT 1,  -- 1 active, 2 inactive, 3 discontinued, 4 deleted
    UpdateDate  timestamp NOT NULL DEFAULT now(),
    UNIQUE (CompanyID, ItemID)
);

CREATE TABLE IF NOT EXISTS timItemDescription (
    ItemKey     int PRIMARY KEY REFERENCES timItem,
    LanguageID  int NOT NULL DEFAULT 1033,
    ShortDesc   varchar(40) NOT NULL DEFAULT '',
    LongDesc    varchar(255) NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS timInventory (
    ItemKey     int NOT NULL REFERENCES timItem,
    WhseKey     int NOT NULL REFERENCES timWarehouse,
    QtyOnSO     decimal(16, 8) NOT NULL DEFAULT 0,
    QtyOnPO     decimal(16, 8) NOT NULL DEFAULT 0,
    QtyOnWO     decimal(16, 8) NOT NULL DEFAULT 0,
    QtyReqForWO decimal(16, 8) NOT NULL DEFAULT 0,
    MinStockQty decimal(16, 8) NOT NULL DEFAULT 0,
    PRIMARY KEY (ItemKey, WhseKey)
);

CREATE TABLE IF NOT EXISTS timWhseBinInvt (
    ItemKey         int NOT NULL REFERENCES timItem,
    WhseBinKey      int NOT NULL REFERENCES timWhseBin,
    QtyOnHand       decimal(16, 8) NOT NULL DEFAULT 0,
    PendQtyIncrease decimal(16, 8) NOT NULL DEFAULT 0,
    PendQtyDecrease decimal(16, 8) NOT NULL DEFAULT 0,
    PRIMARY KEY (ItemKey, WhseBinKey)
);

CREATE TABLE IF NOT EXISTS tciShipMethod (
    ShipMethKey  int PRIMARY KEY,
    CompanyID    varchar(3) NOT NULL,
    ShipMethID   varchar(15) NOT NULL,
    ShipMethDesc varchar(40) NOT NULL DEFAULT '',
    STaxClassKey int NULL,
    UNIQUE (CompanyID, ShipMethID)
);

-- Staging (Data Migration): one session's rows are picked up by spSOapiSalesOrdIns.
CREATE TABLE IF NOT EXISTS StgSalesOrder (
    RowKey                serial PRIMARY KEY,
    SessionKey            int NOT NULL,
    ProcessStatus         smallint NOT NULL DEFAULT 0,  -- 0 not processed, 1 processed, 2 error
    Action                smallint NOT NULL DEFAULT 0,  -- 0 auto, 1 insert, 2 update, 3 delete
    CompanyID             varchar(3) NOT NULL,
    TranNo                varchar(10) NOT NULL,          -- links the header to its StgSOLine rows
    TranDate              timestamp NULL,
    Status                varchar(10) NOT NULL DEFAULT 'Open',
    CustID                varchar(12) NOT NULL DEFAULT '',
    CustPONo              varchar(15) NOT NULL DEFAULT '',
    CurrID                varchar(3) NOT NULL DEFAULT '',
    DfltShipToAddrName    varchar(40) NOT NULL DEFAULT '',
    DfltShipToAddrLine1   varchar(40) NOT NULL DEFAULT '',
    DfltShipToAddrLine2   varchar(40) NOT NULL DEFAULT '',
    DfltShipToAddrLine3   varchar(40) NOT NULL DEFAULT '',
    DfltShipToAddrLine4   varchar(40) NOT NULL DEFAULT '',
    DfltShipToAddrLine5   varchar(40) NOT NULL DEFAULT '',
    DfltShipToCity        varchar(20) NOT NULL DEFAULT '',
    DfltShipToStateID     varchar(3) NOT NULL DEFAULT '',
    DfltShipToPostalCode  varchar(10) NOT NULL DEFAULT '',
    DfltShipToCountryID   varchar(3) NOT NULL DEFAULT '',
    DfltShipMethID        varchar(15) NOT NULL DEFAULT '',
    DfltWarehouseID       varchar(6) NOT NULL DEFAULT '',
    DfltShipDate          timestamp NULL,
    DfltRequestDate       timestamp NULL,
    Hold                  smallint NOT NULL DEFAULT 0,
    HoldReason            varchar(20) NOT NULL DEFAULT '',
    ContactName           varchar(40) NOT NULL DEFAULT '',
    TranCmnt              varchar(50) NOT NULL DEFAULT '',
    UserFld1              varchar(15) NOT NULL DEFAULT '',
    UserFld2              varchar(15) NOT NULL DEFAULT '',
    UserFld3              varchar(15) NOT NULL DEFAULT '',
    UserFld4              varchar(15) NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS stgsalesorder_session ON StgSalesOrder (SessionKey, ProcessStatus);

CREATE TABLE IF NOT EXISTS StgSOLine (
    RowKey        serial PRIMARY KEY,
    SessionKey    int NOT NULL,
    ProcessStatus smallint NOT NULL DEFAULT 0,
    Action        smallint NOT NULL DEFAULT 0,
    TranNo        varchar(10) NOT NULL,
    SOLineNo      int NOT NULL,
    ItemID        varchar(30) NOT NULL DEFAULT '',
    Description   varchar(40) NOT NULL DEFAULT '',
    QtyOrd        decimal(16, 8) NOT NULL DEFAULT 0,
    UnitPrice     decimal(15, 5) NOT NULL DEFAULT 0,
    ExtAmt        decimal(15, 3) NOT NULL DEFAULT 0,
    WarehouseID   varchar(6) NOT NULL DEFAULT '',
    ShipMethID    varchar(15) NOT NULL DEFAULT '',
    ShipDate      timestamp NULL,
    Hold          smallint NOT NULL DEFAULT 0,
    UserFld1      varchar(15) NOT NULL DEFAULT '',  -- [I] line user fields: the hub keeps the Amazon line id here
    UserFld2      varchar(15) NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS stgsoline_session ON StgSOLine (SessionKey, TranNo);

CREATE TABLE IF NOT EXISTS tsoSalesOrder (
    SOKey           int PRIMARY KEY,
    CompanyID       varchar(3) NOT NULL,
    TranNo          varchar(10) NOT NULL,   -- zero-padded
    TranNoRel       varchar(14) NOT NULL,
    TranType        int NOT NULL DEFAULT 801,
    CustKey         int NOT NULL REFERENCES tarCustomer,
    TranDate        timestamp NOT NULL,
    Status          smallint NOT NULL,  -- 0 not active, 1 open, 2 inactive, 3 canceled, 4 closed, 5 incomplete, 6 pending approval
    Hold            smallint NOT NULL DEFAULT 0,
    HoldReason      varchar(20) NOT NULL DEFAULT '',
    CustPONo        varchar(15) NOT NULL DEFAULT '',
    CurrID          varchar(3) NOT NULL DEFAULT '',
    DfltShipMethKey int NULL REFERENCES tciShipMethod,
    DfltWhseKey     int NULL REFERENCES timWarehouse,
    OpenAmt         decimal(15, 3) NOT NULL DEFAULT 0,
    TranCmnt        varchar(50) NOT NULL DEFAULT '',
    UserFld1        varchar(15) NOT NULL DEFAULT '',
    UserFld2        varchar(15) NOT NULL DEFAULT '',
    UserFld3        varchar(15) NOT NULL DEFAULT '',
    UserFld4        varchar(15) NOT NULL DEFAULT '',
    CreateDate      timestamp NOT NULL DEFAULT now(),
    UpdateDate      timestamp NOT NULL DEFAULT now(),
    UNIQUE (CompanyID, TranNo)
);
CREATE INDEX IF NOT EXISTS tsosalesorder_userfld1 ON tsoSalesOrder (CompanyID, UserFld1);

CREATE TABLE IF NOT EXISTS tsoSOLine (
    SOLineKey   int PRIMARY KEY,
    SOKey       int NOT NULL REFERENCES tsoSalesOrder,
    SOLineNo    int NOT NULL,
    ItemKey     int NOT NULL REFERENCES timItem,
    Description varchar(40) NOT NULL DEFAULT '',
    UnitPrice   decimal(15, 5) NOT NULL DEFAULT 0,
    UnitMeasKey int NULL,
    Status      smallint NOT NULL DEFAULT 1,  -- 1 open, 2 closed
    POLineKey   int NULL,
    UserFld1    varchar(15) NOT NULL DEFAULT '',  -- [I] see StgSOLine
    UserFld2    varchar(15) NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS tsoSOLineDist (
    SOLineDistKey int PRIMARY KEY,
    SOLineKey     int NOT NULL REFERENCES tsoSOLine,
    QtyOrd        decimal(16, 8) NOT NULL,
    QtyOpenToShip decimal(16, 8) NOT NULL,
    QtyShip       decimal(16, 8) NOT NULL DEFAULT 0,
    QtyInvcd      decimal(16, 8) NOT NULL DEFAULT 0,
    QtyOnBO       decimal(16, 8) NOT NULL DEFAULT 0,
    ExtAmt        decimal(15, 3) NOT NULL DEFAULT 0,
    ShipMethKey   int NULL REFERENCES tciShipMethod,
    WhseKey       int NOT NULL REFERENCES timWarehouse,
    ShipDate      timestamp NULL,
    ShipToAddrKey int NULL,
    Hold          smallint NOT NULL DEFAULT 0,
    DeliveryMeth  smallint NOT NULL DEFAULT 1,
    Status        smallint NOT NULL DEFAULT 1  -- 1 open, 2 closed, 3 canceled (emulator)
);

CREATE TABLE IF NOT EXISTS tsoShipment (
    ShipKey     int PRIMARY KEY,
    CompanyID   varchar(3) NOT NULL,
    TranID      varchar(13) NOT NULL,
    TranType    int NOT NULL DEFAULT 810,
    TranDate    timestamp NOT NULL,
    ShipMethKey int NULL REFERENCES tciShipMethod,
    BatchKey    int NULL,
    CreateDate  timestamp NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS tsoShipLine (
    ShipLineKey int PRIMARY KEY,
    ShipKey     int NOT NULL REFERENCES tsoShipment,
    SOLineKey   int NOT NULL REFERENCES tsoSOLine,
    ItemKey     int NOT NULL REFERENCES timItem,
    WhseKey     int NOT NULL REFERENCES timWarehouse,
    QtyShipped  decimal(16, 8) NOT NULL,
    InvtTranKey int NULL
);

-- [I] Where tracking lives is site-specific (a package or UDF table); the emulator keeps packages here
-- and the connector's default tracking query reads them.
CREATE TABLE IF NOT EXISTS tsoShipPkg (
    ShipPkgKey  int PRIMARY KEY,
    ShipKey     int NOT NULL REFERENCES tsoShipment,
    PkgNo       int NOT NULL,
    TrackingNo  varchar(50) NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS tsoShipPkgLine (
    ShipPkgKey  int NOT NULL REFERENCES tsoShipPkg,
    ShipLineKey int NOT NULL REFERENCES tsoShipLine,
    QtyShipped  decimal(16, 8) NOT NULL,
    PRIMARY KEY (ShipPkgKey, ShipLineKey)
);

-- General ledger.
CREATE TABLE IF NOT EXISTS tglAccount (
    GLAcctKey   int PRIMARY KEY,
    CompanyID   varchar(3) NOT NULL,
    GLAcctNo    varchar(100) NOT NULL,
    Description varchar(40) NOT NULL DEFAULT '',
    UNIQUE (CompanyID, GLAcctNo)
);

CREATE TABLE IF NOT EXISTS tciBatchLog (
    BatchKey    int PRIMARY KEY,
    CompanyID   varchar(3) NOT NULL,
    BatchID     varchar(16) NOT NULL,
    BatchCmnt   varchar(50) NOT NULL DEFAULT '',
    PostDate    timestamp NOT NULL,
    Status      smallint NOT NULL DEFAULT 1,  -- [I] 1 balanced, not posted
    UNIQUE (CompanyID, BatchID)
);

CREATE TABLE IF NOT EXISTS tglTransaction (
    GLTranKey   int PRIMARY KEY,
    BatchKey    int NOT NULL REFERENCES tciBatchLog,
    GLAcctKey   int NOT NULL REFERENCES tglAccount,
    TranDate    timestamp NOT NULL,
    TranDesc    varchar(50) NOT NULL DEFAULT '',
    PostAmt     decimal(15, 3) NOT NULL,  -- debit positive, credit negative
    CurrID      varchar(3) NOT NULL DEFAULT ''
);

-- [I] GL journal staging: no public name is known; same session protocol as the sales orders.
CREATE TABLE IF NOT EXISTS StgGLTransaction (
    RowKey        serial PRIMARY KEY,
    SessionKey    int NOT NULL,
    ProcessStatus smallint NOT NULL DEFAULT 0,
    Action        smallint NOT NULL DEFAULT 1,
    CompanyID     varchar(3) NOT NULL,
    Reference     varchar(50) NOT NULL,   -- groups the lines of one journal; kept as the batch comment
    TranDate      timestamp NOT NULL,
    GLAcctNo      varchar(100) NOT NULL,
    TranDesc      varchar(50) NOT NULL DEFAULT '',
    DebitAmt      decimal(15, 3) NOT NULL DEFAULT 0,
    CreditAmt     decimal(15, 3) NOT NULL DEFAULT 0,
    CurrID        varchar(3) NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS stggltransaction_session ON StgGLTransaction (SessionKey, Reference);
